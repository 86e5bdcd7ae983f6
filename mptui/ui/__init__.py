"""The full-screen app (Textual). The only part of mptui that imports textual."""
