"""The FAQ's questions and answers, read from tui/content/faq.toml.

Kept apart from the FAQ screen so that the guide (the first screen) can name a step's related
question without importing the FAQ screen and its widgets at start-up.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from typing import NamedTuple

from textual.content import Content

from tui.content import shipped_text


class FaqTopic(NamedTuple):
    """One question and its answer (Textual content markup)."""

    id: str
    question: str
    answer: str
    #: Words a reader may type that the text does not use (faq.toml "search"): the answer says
    #: "address list", the reader types "whitelist".
    search: tuple[str, ...] = ()

    def matches(self, words: Iterable[str]) -> bool:
        """True when every word occurs in the question, the answer or its search words, any case."""
        text = "\n".join((self.question, Content.from_markup(self.answer).plain, *self.search))
        haystack = text.casefold()
        return all(word.casefold() in haystack for word in words)


@cache
def faq_topics() -> dict[str, FaqTopic]:
    """The FAQ topics from tui/content/faq.toml, by id, in display order."""
    raw = shipped_text("faq.toml")
    return {
        entry["id"]: FaqTopic(entry["id"], entry["question"], entry["answer"].strip(),
                              tuple(entry.get("search", ())))
        for entry in tomllib.loads(raw)["topic"]
    }
