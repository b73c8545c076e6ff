"""Indian GST state and union-territory codes (the first two digits of a GSTIN)."""

from __future__ import annotations

GST_STATES: dict[str, str] = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu", "27": "Maharashtra", "29": "Karnataka", "30": "Goa",
    "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman and Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh",
    "97": "Other Territory",
}
_BY_NAME = {name.casefold(): code for code, name in GST_STATES.items()}
_BY_NAME.update({"orissa": "21", "pondicherry": "34", "new delhi": "07", "nct of delhi": "07", "j&k": "01"})


def state_code(value: str) -> str:
    """``"27"``, ``"7"`` or ``"Maharashtra"`` -> ``"27"``; raises ``ValueError`` for anything else."""
    s = value.strip()
    if s.isdigit():
        code = s.zfill(2)
        if code in GST_STATES:
            return code
    elif s.casefold() in _BY_NAME:
        return _BY_NAME[s.casefold()]
    raise ValueError(f"unknown state {value!r} (give the GST state code like 27 or the name like Maharashtra)")
