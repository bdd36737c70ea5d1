"""Convert a published measurement layout to the generic format of docs/validation.md.

    python benchmarks/convert_measurements.py karst ../shared/realdata/measurements/karst_lora_si OUT
    python benchmarks/convert_measurements.py dortmund ../shared/realdata/measurements/dortmund_lte_de OUT

writes ``OUT/measurements.csv`` and ``OUT/transmitters.csv``, which ``ruralsim calibrate
SCENARIO.yaml OUT/measurements.csv --transmitters OUT/transmitters.csv`` reads (the
adapters are :func:`simulator.io.measurements.karst_lora_tables` and
:func:`~simulator.io.measurements.dortmund_lte_tables`; their docstrings say what each
assumes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.io import measurements as mio  # noqa: E402

ADAPTERS = {"karst": mio.karst_lora_tables, "dortmund": mio.dortmund_lte_tables}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("layout", choices=sorted(ADAPTERS))
    ap.add_argument("source", help="the published folder")
    ap.add_argument("out", help="folder to write measurements.csv and transmitters.csv into")
    args = ap.parse_args(argv)
    tables = ADAPTERS[args.layout](Path(args.source))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mio.write_table_csv(out / "measurements.csv", tables["measurements"])
    mio.write_table_csv(out / "transmitters.csv", tables["transmitters"])
    n = len(tables["measurements"]["lon"])
    print(f"wrote {out / 'measurements.csv'} ({n} rows) and {out / 'transmitters.csv'} "
          f"({len(tables['transmitters']['name'])} transmitters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
