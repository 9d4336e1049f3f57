"""Column operators for de-identification, looked up by name from configs.

Importing this package registers every built-in operator. To add one, write a
module with a dataclass subclass of :class:`Operator` decorated with
:func:`register_operator` and import it below.
"""

from pulsecrm.deid.operators import (
    date_shift,
    date_truncate,
    generalize,
    mask,
    pseudonym,
    redact,
    suppress,
    top_code,
    zip3,
)
from pulsecrm.deid.operators.base import (
    Applied,
    Operator,
    OperatorContext,
    OperatorError,
    ReleaseForm,
    build_operator,
    operator_class,
    operator_names,
    register_operator,
)

__all__ = [
    "Applied",
    "Operator",
    "OperatorContext",
    "OperatorError",
    "ReleaseForm",
    "build_operator",
    "date_shift",
    "date_truncate",
    "generalize",
    "mask",
    "operator_class",
    "operator_names",
    "pseudonym",
    "redact",
    "register_operator",
    "suppress",
    "top_code",
    "zip3",
]
