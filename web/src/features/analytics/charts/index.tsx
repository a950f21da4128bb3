// The Chart.js canvases, loaded as a separate chunk: the figures and the data tables do not wait for Chart.js.
import { Doughnut, Line } from "react-chartjs-2";

import "@/lib/chart";

export { Doughnut, Line };
