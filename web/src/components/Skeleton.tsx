// A grey placeholder block shown while figures load (announced once to screen readers by its container).
export function Skeleton({ width = "100%", height = "1.2rem" }: { width?: string; height?: string }) {
  return <span className="skeleton" style={{ width, height }} aria-hidden="true" />;
}
