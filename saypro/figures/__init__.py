"""The figure registry and the targets figures are measured against (an installed app: saypro.figures)."""
