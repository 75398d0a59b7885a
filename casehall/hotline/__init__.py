"""The 12345 citizen hotline's configuration: time-limit profiles and the knowledge base's tokenizer."""
