"""Safety: the guard that decides every request, and the ledger of what a run created."""
