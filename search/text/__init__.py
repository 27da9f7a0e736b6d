"""The Norwegian text analyser: normalisation, stop words, stemming, decompounding, glossary."""
