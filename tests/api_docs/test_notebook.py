"""api_usage.ipynb runs, top to bottom, against a live server the test starts."""

from tools import run_notebook


def test_api_usage_notebook_runs_green_against_a_live_server():
    notebook = run_notebook.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    for expected in ("E-mail address confirmed.", "overlaps accepted request", "Logged out.",
                     "The token has been revoked.", "page 2:", "replayed: true",
                     "BEGIN:VCALENDAR", "text/csv", "carries on",
                     "a reset link is on its way", "Password changed.",
                     "has been used already", "checked_in_at",
                     "Check-in is open from", "within one opening span", "carol's queue:",
                     "Fire drill", "Write a quota as hours/period",
                     "10:00 CEST", "rejected conflict"):  # fmt: skip
        assert expected in text, expected
