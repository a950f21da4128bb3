// The charts' colours (distinguishable, and each with a text label beside it).
export const PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"];
