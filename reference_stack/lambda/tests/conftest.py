"""Make the Lambda modules in reference_stack/lambda importable by name."""
import sys
from pathlib import Path

LAMBDA_DIR = Path(__file__).resolve().parents[1]
if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))
