"""newsqa evaluation: score the assistant on gold question sets (``python -m eval run``). Imports qa and index only."""
