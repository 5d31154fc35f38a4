"""Voice: the TTS worker and prompt cache, the Kazakh and Russian phrase tables
(``phrases/``), Vosk speech recognition (see ``docs/architecture.md``)."""
