"""What the user's work is about: boards, sync, OTA, logs. No UI here."""
