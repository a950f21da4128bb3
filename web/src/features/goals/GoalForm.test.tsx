import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { categories, WORK } from "@/test/fixtures";

import { GoalForm } from "./GoalForm";
import type { GoalFormValues } from "./validation";

function setup() {
  const submitted: GoalFormValues[] = [];
  render(
    <GoalForm
      categories={categories}
      onSubmit={async (values) => {
        submitted.push(values);
      }}
    />,
  );
  return { submitted, user: userEvent.setup() };
}

describe("GoalForm", () => {
  it("refuses an empty form, naming each field", async () => {
    const { submitted, user } = setup();
    await user.click(screen.getByRole("button", { name: "Create goal" }));
    expect(screen.getByLabelText("Name")).toHaveAccessibleDescription("Give the goal a name.");
    expect(screen.getByLabelText("Target value")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("Enter a target.")).toBeInTheDocument();
    expect(submitted).toEqual([]);
  });

  it("asks a percentage goal for a category and a target of at most 100", async () => {
    const { submitted, user } = setup();
    await user.type(screen.getByLabelText("Name"), "Mostly work");
    await user.selectOptions(screen.getByLabelText("Target type"), "percentage");
    expect(screen.getByText(/needs a category, at most 100/)).toBeInTheDocument();
    await user.type(screen.getByLabelText("Target value"), "150");
    await user.click(screen.getByRole("button", { name: "Create goal" }));
    expect(screen.getByText("A percentage is at most 100.")).toBeInTheDocument();
    expect(screen.getByText("A percentage goal needs a category.")).toBeInTheDocument();
    await user.clear(screen.getByLabelText("Target value"));
    await user.type(screen.getByLabelText("Target value"), "60");
    await user.selectOptions(screen.getByLabelText("Category"), WORK);
    expect(screen.queryByText("A percentage is at most 100.")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Create goal" }));
    expect(submitted).toEqual([
      { name: "Mostly work", targetType: "percentage", targetValue: "60", period: "weekly", categoryId: WORK },
    ]);
  });

  it("shows one line of help per target type and refuses fractions", async () => {
    const { submitted, user } = setup();
    expect(screen.getByText(/Minutes of scheduled time/)).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Target type"), "task_count");
    expect(screen.getByText(/Number of tasks completed/)).toBeInTheDocument();
    await user.type(screen.getByLabelText("Name"), "Ship");
    await user.type(screen.getByLabelText("Target value"), "2.5");
    await user.selectOptions(screen.getByLabelText("Period"), "monthly");
    await user.click(screen.getByRole("button", { name: "Create goal" }));
    expect(screen.getByText("A whole number above 0.")).toBeInTheDocument();
    expect(submitted).toEqual([]);
  });

  it("shows the server's refusal", async () => {
    const user = userEvent.setup();
    render(<GoalForm categories={categories} onSubmit={() => Promise.reject(new Error("name: too long"))} />);
    await user.type(screen.getByLabelText("Name"), "x");
    await user.type(screen.getByLabelText("Target value"), "5");
    await user.click(screen.getByRole("button", { name: "Create goal" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("name: too long");
  });
});
