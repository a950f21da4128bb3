// Display formatting of the API's raw figures (the raw values stay in data-* attributes).
import { format, parseISO } from "date-fns";

import type { TargetType } from "@/api/types";

export function formatMinutes(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

export function formatRatio(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? "–" : `${Math.round(ratio * 100)}%`;
}

export function formatTarget(type: TargetType, value: number): string {
  if (type === "minutes") return formatMinutes(value);
  if (type === "percentage") return `${value}%`;
  return `${value} task${value === 1 ? "" : "s"}`;
}

export function formatDay(isoDate: string): string {
  return format(parseISO(isoDate), "EEE d MMM");
}

export function formatInstant(iso: string | null | undefined): string {
  return iso ? format(parseISO(iso), "d MMM yyyy, HH:mm") : "never";
}

/** The raw value for a data-* attribute: empty for null. */
export function raw(value: number | string | null | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}
