"""Generated text the tiny model's tokenizer and pretraining read: plain sentences and chats."""

import random

WORD_LIST = (
    "the a one my your our this that some every printer screen network password invoice "
    "refund order account login email server laptop phone battery cable wifi router bill "
    "charge payment card delivery package parcel address shipping label box item price red "
    "blue green yellow black white small big new old fast slow broken working late early is "
    "was will can cannot should would please help thanks today yesterday now again still open "
    "close send reset change check update cancel return fix buy pay ship track reply error "
    "issue problem question request ticket support team customer agent user admin hello hi "
    "good bad yes no maybe why how what when where who which it they we you i and or but not "
    "with for from to in on at by of about after before under over "
)
WORDS = tuple(WORD_LIST.split())
ROLES = ("user", "assistant")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 10))]
    text = " ".join(words)
    if rng.random() < 0.3:
        text += f" {rng.randint(0, 999)}"
    return text[0].upper() + text[1:] + rng.choice(".?!")


def chat(rng: random.Random) -> list[dict[str, str]]:
    turns = rng.randint(1, 2) * 2
    messages = [{"role": ROLES[i % 2], "content": sentence(rng)} for i in range(turns)]
    if rng.random() < 0.3:
        messages.insert(0, {"role": "system", "content": sentence(rng)})
    return messages


def plain_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(sentence(rng) for _ in range(rng.randint(1, 4))) for _ in range(count)]


def chats(count: int, seed: int) -> list[list[dict[str, str]]]:
    rng = random.Random(seed)
    return [chat(rng) for _ in range(count)]


__all__ = ["WORDS", "chats", "plain_texts", "sentence"]
