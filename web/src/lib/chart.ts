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
