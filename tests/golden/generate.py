"""Write `torch_parity.json`: the parity cases with torch's answers (run with torch installed).

python tests/golden/generate.py
"""

import json
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from torch_oracle import cases, torch_answers  # noqa: E402


def main() -> None:
    records = [{**case, **torch_answers(case)} for case in cases()]
    path = HERE / "torch_parity.json"
    payload = {"generator": "tests/golden/generate.py", "torch": torch.__version__}
    payload["cases"] = records
    path.write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    print(f"wrote {len(records)} cases to {path.name} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
