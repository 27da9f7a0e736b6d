"""Retrieval evaluation: metrics, BEIR-layout sets, the paraphrase development set."""
