// An accessible chart: a titled figure whose canvas has an aria description, and a companion data table
// (visually hidden until "Show table" is pressed, always read by screen readers).
import { type ReactNode, useId, useState } from "react";

interface Props {
  title: string;
  description: string;
  chart: ReactNode;
  table: ReactNode;
}

export function ChartFigure({ title, description, chart, table }: Props) {
  const [showTable, setShowTable] = useState(false);
  const id = useId();
  return (
    <figure className="card chart">
      <figcaption className="chart__head">
        <h2 id={`${id}-title`}>{title}</h2>
        <button type="button" aria-expanded={showTable} aria-controls={`${id}-table`} onClick={() => setShowTable((v) => !v)}>
          {showTable ? "Hide table" : "Show table"}
        </button>
      </figcaption>
      <p id={`${id}-desc`} className="sr-only">
        {description}
      </p>
      <div className="chart__canvas" role="img" aria-labelledby={`${id}-title`} aria-describedby={`${id}-desc`}>
        {chart}
      </div>
      <div id={`${id}-table`} className={showTable ? "chart__table" : "sr-only"}>
        {table}
      </div>
    </figure>
  );
}
