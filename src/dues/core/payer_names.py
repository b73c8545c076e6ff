"""Payer names as Indian banks print them: abbreviated, run together, cut short; and the legal words in them.

Pure. A bank's narration gives the payer's name in a field of 20 to 35 characters, so names come
shortened in a few regular ways: words cut ("SHREE GANESH STL TRD"), initials ("S G STEEL TRADERS",
"SG STEEL"), words run together ("SHREEGANESH STEEL"), vowels dropped ("SHR GNSH STL"), legal words
shortened or left out ("P LTD", "PVT L", "ENTP", "TRDG"), and the end cut off. ``abbreviation_score`` says
how well a payer's words read as a shortening of a customer's name; ``legal_agreement`` whether the legal
words the bank kept ("ENT", "PVT LTD") are the customer's.
"""

from __future__ import annotations

from functools import lru_cache

# legal words and how banks shorten them (a shortening also counts when it is the word's start or consonants)
LEGAL_FORMS = {
    "private": ("pvt", "p", "priv"), "pvt": ("p", "private"), "limited": ("ltd", "l", "lim"), "ltd": ("l", "limited"),
    "traders": ("trd", "trds", "trdg", "trading"), "trading": ("trd", "trdg", "traders"), "trader": ("trd",),
    "enterprises": ("ent", "entp", "entps", "entpr", "enterprise"), "enterprise": ("ent", "entp"),
    "industries": ("ind", "inds", "indus", "industry"), "industry": ("ind", "inds"),
    "agencies": ("agn", "agcy", "agency", "agencys"), "agency": ("agn", "agcy"),
    "company": ("co", "coy"), "co": ("company", "coy"), "corporation": ("corp", "co"), "corp": ("corporation",),
    "llp": (), "opc": (), "inc": (),
}
# the first letter of a legal word is a weak clue, and a single letter may just as well be an initial
JOINERS = frozenset(["and", "the", "of"])


def plain_words(words: list[str]) -> tuple[str, ...]:
    """Words without joiners and a leading 'M/s' (a single M or S elsewhere is an initial)."""
    if words[:2] == ["m", "s"]:
        words = words[2:]
    elif words[:1] == ["ms"]:
        words = words[1:]
    return tuple(w for w in words if w not in JOINERS)


def devowel(word: str) -> str:
    """The word's first letter and its consonants: 'steel' -> 'stl', 'ganesh' -> 'gnsh'."""
    return word[:1] + "".join(c for c in word[1:] if c not in "aeiou")


def _subsequence(short: str, word: str) -> bool:
    it = iter(word)
    return all(c in it for c in short)


def legal_fits(token: str, word: str) -> bool:
    """Whether ``token`` is ``word`` (a legal word) as a bank may print it: 'trdg' for traders, 'p' for private."""
    if token == word or token in LEGAL_FORMS.get(word, ()):
        return True
    if len(token) < 2 or token[0] != word[0]:
        return False
    return word.startswith(token) or (len(token) >= 3 and _subsequence(token, word))


@lru_cache(maxsize=100_000)
def is_legal(token: str) -> bool:
    """Whether a payer's word is a legal word or a bank's shortening of one (single letters are not: initials)."""
    return token in LEGAL_FORMS or (len(token) >= 2 and any(legal_fits(token, w) for w in LEGAL_FORMS))


def legal_agreement(tokens: list[str], legal_words: frozenset[str]) -> int:
    """+1 for each legal word the bank kept that is one of the name's, -1 for each that is not; 0 with none kept."""
    score = 0
    for t in tokens:
        if t in JOINERS or not is_legal(t):
            continue
        score += 1 if any(legal_fits(t, w) for w in legal_words) else -1
    return score


def _word_strength(t: str, w: str) -> float:
    """How surely payer word ``t`` stands for name word ``w``: 1 the word, down to 0.35 for an initial; 0 not it."""
    if t == w:
        return 1.0
    if not t or t[0] != w[0]:
        return 0.0
    if len(t) == 1:
        return 0.35
    if w.startswith(t):
        return 0.95 if len(t) >= 4 else 0.85 if len(t) == 3 else 0.5
    if len(t) >= 3 and (t == devowel(w) or devowel(w).startswith(t) or _subsequence(t, w)):
        return 0.85 if len(t) >= 4 or t == devowel(w) else 0.75
    return 0.0


@lru_cache(maxsize=200_000)
def abbreviation_score(tokens: tuple[str, ...], words: tuple[str, ...], cut: bool) -> float:
    """How well the payer's ``tokens`` read as the customer's name ``words`` shortened, in [0, 1]; 0 when they do not.

    Words in order; each payer word is a name word (whole, its start, its consonants, its initial), several name
    words run together ('shreeganesh', 'sg'), or a legal word's short form; legal words may be left out; with
    ``cut`` (a name at the field's length) the end of the name may be missing. The score is the mean strength
    over the name's other words; a name word cut off counts a quarter.
    """
    core = [w for w in words if w not in LEGAL_FORMS]
    if not tokens or not core:
        return 0.0
    n, m = len(tokens), len(words)
    best: dict[tuple[int, int], float] = {}

    def go(i: int, j: int) -> float:
        """The best total strength over core words j.. for tokens i..; -1 when they cannot be matched."""
        key = (i, j)
        if key in best:
            return best[key]
        if i == n:
            rest = [w for w in words[j:] if w not in LEGAL_FORMS]
            out = 0.25 * len(rest) if cut or not rest else -1.0
            best[key] = out
            return out
        out = -1.0
        if j < m:
            t, w = tokens[i], words[j]
            legal = w in LEGAL_FORMS
            if legal:
                if legal_fits(t, w) and (r := go(i + 1, j + 1)) >= 0:
                    out = max(out, r)
                if j + 1 < m and words[j + 1] in LEGAL_FORMS and t in (w[0] + words[j + 1][0], w + words[j + 1]) \
                        and (r := go(i + 1, j + 2)) >= 0:  # 'pl', 'pvtltd'
                    out = max(out, r)
                if (r := go(i, j + 1)) >= 0:  # a legal word left out
                    out = max(out, r)
            else:
                s = _word_strength(t, w)
                if s > 0 and (r := go(i + 1, j + 1)) >= 0:
                    out = max(out, s + r)
                # words run together: 'shreeganesh', 'shreegan', 'sg'
                joined = w
                for k in range(j + 1, min(m, j + 4)):
                    nxt = words[k]
                    if nxt in LEGAL_FORMS:
                        break
                    span = k - j + 1
                    if t == "".join(x[0] for x in words[j:k + 1]) and (r := go(i + 1, k + 1)) >= 0:
                        out = max(out, 0.35 * span + r)
                    if t.startswith(joined) and len(t) > len(joined) and nxt.startswith(t[len(joined):]) \
                            and (r := go(i + 1, k + 1)) >= 0:
                        tail = len(t) - len(joined)
                        out = max(out, span - 1 + (1.0 if tail == len(nxt) else 0.95 if tail >= 4 else 0.85) + r)
                    joined += nxt
        if out < 0 and tokens[i] in JOINERS and (r := go(i + 1, j)) >= 0:
            out = r
        best[key] = out
        return out

    total = go(0, 0)
    return max(0.0, total / len(core)) if total > 0 else 0.0


def name_keys(words: list[str]) -> set[str]:
    """Index keys of a name: the first four letters from each word on (run together), each word's consonants' start,
    each word."""
    core = [w for w in words if w not in LEGAL_FORMS]
    keys = {"".join(core[k:])[:4] for k in range(len(core)) if len("".join(core[k:])) >= 4}
    keys |= {"~" + devowel(w)[:3] for w in core if len(devowel(w)) >= 3}
    keys |= {"=" + w for w in core}
    return keys


def token_keys(token: str) -> set[str]:
    """The keys under which a payer's word finds the names it may shorten (none for initials)."""
    keys = {"=" + token} if len(token) > 1 else set()
    if len(token) >= 4:
        keys.add(token[:4])
    d = devowel(token)
    if len(d) >= 3:
        keys.add("~" + d[:3])
    return keys
