// Chart.js with only the pieces Pulse draws (a doughnut and lines), so the bundle stays small.
import {
  ArcElement,
  CategoryScale,
  Chart,
  Legend,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(ArcElement, CategoryScale, Legend, LineElement, LinearScale, PointElement, Tooltip);

export const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
