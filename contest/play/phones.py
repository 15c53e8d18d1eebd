"""Phone numbers as workers and rosters type them: one spelling for one phone."""

from __future__ import annotations

import re
import unicodedata

# ASCII digits only: `\d` would also take full-width and other scripts' digits, and the same
# phone typed two ways would be two entrants.
PHONE = re.compile(r"1[0-9]{10}")


def normalized(value: object) -> str:
    """The phone in `value` as it is stored: full-width digits and dashes (a Chinese input
    method's) made ASCII, spaces and dashes dropped. Whether it is a phone is PHONE's to say."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    return text.strip().replace(" ", "").replace("-", "")
