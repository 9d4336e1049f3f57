"""Data-subject rights: request intake with legal clocks (F1); fulfilment comes later."""
