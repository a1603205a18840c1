"""Writes JASPAR's CORE fungi collection (latest version of every matrix) in JASPAR's own
text format, from the JASPAR database that the `pyjaspar` package carries.

    python3 -m venv /tmp/jaspar && /tmp/jaspar/bin/pip install pyjaspar==4.0.0
    /tmp/jaspar/bin/python motifs/jaspar.py 2024 > motifs/JASPAR2024_CORE_fungi.jaspar
"""

import sqlite3
import sys
from pathlib import Path

import pyjaspar

release = sys.argv[1] if len(sys.argv) > 1 else "2024"
database = Path(pyjaspar.__file__).parent / "data" / f"JASPAR{release}.sqlite"
cursor = sqlite3.connect(database).cursor()
matrices = cursor.execute(
    """select m.ID, m.BASE_ID, m.VERSION, m.NAME from MATRIX m
       join MATRIX_ANNOTATION a on a.ID = m.ID
       where m.COLLECTION = 'CORE' and a.TAG = 'tax_group' and a.VAL = 'fungi'
       order by m.BASE_ID, m.VERSION"""
).fetchall()
latest = {base: (local, base, version, name) for local, base, version, name in matrices}
for local, base, version, name in latest.values():
    print(f">{base}.{version}\t{name}")
    for base_letter in "ACGT":
        counts = cursor.execute(
            "select val from MATRIX_DATA where ID = ? and row = ? order by col",
            (local, base_letter),
        ).fetchall()
        print(f"{base_letter}  [ " + " ".join(f"{value:6g}" for (value,) in counts) + " ]")
