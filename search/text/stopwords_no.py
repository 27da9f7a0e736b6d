"""Norwegian stop words: the Snowball project's list (Bokmål, with the Nynorsk forms it marks),
plus the Nynorsk forms of its Bokmål words that it lacks (`NYNORSK_FORMS`).

Source: https://snowballstem.org/algorithms/norwegian/stop.txt (revised by Jan Bruusgaard,
2005), the same 172 distinct words NLTK and bm25s ship. Shipped here as data so the analyzer
needs no corpus download at run time.

Licence of the list (BSD-3-Clause, https://snowballstem.org/license.html):

    Copyright (c) 2001, Dr Martin Porter
    Copyright (c) 2004,2005, Richard Boulton
    Copyright (c) 2013, Yoshiki Shibukawa
    Copyright (c) 2006,2007,2009,2010,2011,2014-2019, Olly Betts
    All rights reserved.

    Redistribution and use in source and binary forms, with or without modification, are
    permitted provided that the following conditions are met:
    1. Redistributions of source code must retain the above copyright notice, this list of
       conditions and the following disclaimer.
    2. Redistributions in binary form must reproduce the above copyright notice, this list of
       conditions and the following disclaimer in the documentation and/or other materials
       provided with the distribution.
    3. Neither the name of the Snowball project nor the names of its contributors may be used
       to endorse or promote products derived from this software without specific prior
       written permission.

    THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY
    EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF
    MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
    COPYRIGHT OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
    EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
    SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
    HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR
    TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
    SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""

from __future__ import annotations

__all__ = ["NORWEGIAN_STOPWORDS"]

# fmt: off
# Lower-case, accents as written; compared against folded words (folding keeps æ, ø, å).
NORWEGIAN_STOPWORDS: frozenset[str] = frozenset(
    (
        "alle", "at", "av", "bare", "begge", "ble", "blei", "bli", "blir", "blitt", "både", "båe",
        "da", "de", "deg", "dei", "deim", "deira", "deires", "dem", "den", "denne", "der", "dere",
        "deres", "det", "dette", "di", "din", "disse", "ditt", "du", "dykk", "dykkar", "då", "eg",
        "ein", "eit", "eitt", "eller", "elles", "en", "enn", "er", "et", "ett", "etter", "for",
        "fordi", "fra", "før", "ha", "hadde", "han", "hans", "har", "hennar", "henne", "hennes",
        "her", "hjå", "ho", "hoe", "honom", "hoss", "hossen", "hun", "hva", "hvem", "hver",
        "hvilke", "hvilken", "hvis", "hvor", "hvordan", "hvorfor", "i", "ikke", "ikkje", "ingen",
        "ingi", "inkje", "inn", "inni", "ja", "jeg", "kan", "kom", "korleis", "korso", "kun",
        "kunne", "kva", "kvar", "kvarhelst", "kven", "kvi", "kvifor", "man", "mange", "me", "med",
        "medan", "meg", "meget", "mellom", "men", "mi", "min", "mine", "mitt", "mot", "mykje",
        "ned", "no", "noe", "noen", "noka", "noko", "nokon", "nokor", "nokre", "nå", "når", "og",
        "også", "om", "opp", "oss", "over", "på", "samme", "seg", "selv", "si", "sia", "sidan",
        "siden", "sin", "sine", "sitt", "sjøl", "skal", "skulle", "slik", "so", "som", "somme",
        "somt", "så", "sånn", "til", "um", "upp", "ut", "uten", "var", "vart", "varte", "ved",
        "vere", "verte", "vi", "vil", "ville", "vore", "vors", "vort", "vår", "være", "vært", "å"
    )
) | frozenset(
    # The Nynorsk form of a Bokmål word on the list, where the list lacks it: "kor mange" and
    # "frå" were searched as content words while "hvor mange" and "fra" were not, so a
    # Nynorsk question weighed its function words like rare terms (no chunk of a Bokmål
    # corpus holds "kor": the highest IDF). "kor" (a choir) is given up for "kor" (how/where);
    # "vert" (Bokmål: host) and "same" (a Sami) stay content words.
    ("berre", "desse", "frå", "kor", "korfor", "sjølv", "utan", "vorte")
)
# fmt: on
