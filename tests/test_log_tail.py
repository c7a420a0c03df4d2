"""Following a log as whole lines (orchestration/agents/log_tail.py), as the Output tab and `bosun
log --follow` do, on a real file written in pieces."""

from __future__ import annotations

from bosun.orchestration.agents.log_tail import LogTail


def test_a_line_is_given_once_whole_and_a_replaced_log_is_read_again(tmp_path) -> None:
    log = tmp_path / "a.1.log"
    tail = LogTail(log)
    assert tail.lines() == [], "a log not written yet gives nothing"
    log.write_bytes(b"one\ntw")
    assert tail.lines() == ["one"], "the line still being written waits"
    with open(log, "ab") as out:
        out.write("o\nthré".encode()[:-1])  # ends inside a two-byte character
    assert tail.lines() == ["two"]
    with open(log, "ab") as out:
        out.write("é".encode()[1:] + b"e\n")
    assert tail.lines() == ["thrée"], "a character split across two reads is whole"
    log.write_bytes(b"new\n")  # replaced by a shorter log
    assert tail.lines() == ["new"]
    with open(log, "ab") as out:
        out.write(b"unfinished")
    assert tail.lines() == [] and tail.lines(last=True) == ["unfinished"]


def test_a_long_log_opened_late_starts_near_its_end_on_a_whole_line(tmp_path) -> None:
    log = tmp_path / "a.1.log"
    log.write_bytes(b"".join(b"line %d\n" % n for n in range(1000)))
    tail = LogTail(log, start=100, chunk=30)
    got = []
    while lines := tail.lines():
        got += lines
    # the last 100 bytes: the end of "line 988\n" (cut, dropped), then 989 to 999 whole, 9 bytes each
    assert got == [f"line {n}" for n in range(989, 1000)]
