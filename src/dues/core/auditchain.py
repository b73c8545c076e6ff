"""The audit log's hash chain: each record's hash covers its content and the previous hash.

Changing, inserting or deleting any record breaks every hash after it; ``verify`` names the first
record whose stored hash or link does not match what its content says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(payload: Mapping[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept, non-JSON types as strings."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, payload: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical(payload)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainRecord:
    seq: int
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def verify(records: Iterable[ChainRecord], head: tuple[int, str] | None = None) -> ChainBreak | None:
    """Walk the records in ``seq`` order; return the first break, or None if the chain holds.

    ``head`` is the (seq, hash) the log last recorded as its end: a shorter chain means records
    were cut off the end.
    """
    prev_hash, expected_seq = GENESIS, 1
    last: ChainRecord | None = None
    for rec in records:
        if rec.seq != expected_seq:
            return ChainBreak(expected_seq, f"record {expected_seq} is missing (next found is {rec.seq})")
        if rec.prev_hash != prev_hash:
            return ChainBreak(rec.seq, "link to the previous record does not match (a record before it was changed or removed)")
        if chain_hash(prev_hash, rec.payload) != rec.hash:
            return ChainBreak(rec.seq, "content does not match its hash (the record was changed)")
        prev_hash, expected_seq, last = rec.hash, rec.seq + 1, rec
    if head is not None:
        head_seq, head_hash = head
        if last is None or last.seq != head_seq or last.hash != head_hash:
            have = last.seq if last else 0
            return ChainBreak(have + 1, f"log ends at record {have} but its head says {head_seq} (records were removed from the end)")
    return None
