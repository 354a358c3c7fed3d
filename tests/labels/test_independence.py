"""labels stands alone: it imports neither sync nor terminal (the dependency direction)."""

import subprocess
import sys


def test_labels_imports_neither_sync_nor_terminal():
    code = (
        "import sys, labels, labels.printers, labels.pictures, labels.zpl; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sync', 'terminal', 'textual'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
