"""Rule books: policy as data, one TOML file per version (rules/<jurisdiction>/<version>.toml).

The model lives in `escrow.domain.rulebook`; this package reads and validates the files (`loading`,
`reader`), pins a project to the version in force on its permit date and refuses a published version whose
file changed (`pinning`). The names callers use are re-exported here.
"""

from escrow.domain.rulebook import ApprovalStep, CheckSpec, Node, RuleBook, version_key
from escrow.rulebooks.loading import load_dir, parse
from escrow.rulebooks.pinning import RuleBooks
from escrow.rulebooks.reader import RuleBookError

__all__ = [
    "ApprovalStep",
    "CheckSpec",
    "Node",
    "RuleBook",
    "RuleBookError",
    "RuleBooks",
    "load_dir",
    "parse",
    "version_key",
]
