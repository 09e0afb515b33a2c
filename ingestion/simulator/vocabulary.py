"""Local names for simulated machines and materials, per plant language.

German names deliberately use umlauts, ß and Ø so that the cp1252 extracts of DE-STR really exercise the encoding,
and one Spanish material name contains a comma so that CSV quoting is exercised too.
"""

from __future__ import annotations

# Machine types in line-flow order: the n-th asset of a line is the n-th type (cycling when a line is longer).
MACHINE_TYPES: dict[str, tuple[str, ...]] = {
    "de": ("Stanzpresse", "Schweißroboter", "Fräszentrum", "Montagestation", "Prüfstand"),
    "es": ("Prensa", "Soldadora", "Torno CNC", "Estación de ensamble", "Empacadora"),
    "en": ("Press", "Welding cell", "CNC mill", "Assembly station", "Test bench"),
}

MATERIAL_NAMES: dict[str, tuple[str, ...]] = {
    "de": ("Gehäuse Ø40", "Flansch groß", "Lagerschild", "Zahnrad 24Z", "Welle gehärtet", "Deckel Öltank"),
    "es": (
        "Carcasa de aluminio",
        "Engrane 32 dientes",
        "Soporte, lado izquierdo",
        "Eje de transmisión",
        "Tapa de válvula",
        "Buje de bronce",
    ),
    "en": (
        "Controller board",
        "Power module",
        "Sensor housing",
        "Bracket, left hand",
        "Drive shaft",
        "Valve cover",
        "Bearing sleeve",
    ),
}


def machine_name(language: str, line: int, asset: int) -> str:
    """Name of asset number `asset` (1-based) on line `line`, e.g. 'Schweißroboter 1.2'."""
    types = MACHINE_TYPES[language]
    return f"{types[(asset - 1) % len(types)]} {line}.{asset}"


def material_name(language: str, n: int) -> str:
    """Name of material number `n` (1-based); a variant suffix keeps names unique beyond the vocabulary."""
    names = MATERIAL_NAMES[language]
    base = names[(n - 1) % len(names)]
    variant = (n - 1) // len(names)
    return base if variant == 0 else f"{base} V{variant + 1}"
