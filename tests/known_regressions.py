"""Behaviours the readers trained on all of SQuAD (issue 28) lost on the seeds, kept as strict
xfails so that each is seen again, and noticed when it comes back. Each says what happens now."""

#: "Where were the latest talks held?" (since passages are read in windows of whole sentences).
LATEST_TALKS = ("known regression (issue 28): with passages read in windows, 'Where were the latest talks held?' "
                "leads with 'the Istanbul talks in March 2022': the sentence the reader ranks first states no place "
                "the entity recognizer types, so the best of the top three stating one is taken, and the Geneva "
                "sentence, whose article gives no date, cannot be compared by date (with the reranker reading one window "
                "of most passages, it leads with a photo caption of the June 2025 round at the Ciragan Palace instead)")

#: "Where were the first talks held?" (since the reader fine-tuned on windows, 2026-12-07).
FIRST_TALKS = ("known regression (issue 28): with the reader fine-tuned on windows, 'Where were the first talks "
               "held?' leads with 'Istanbul's Dolmabahçe Palace' and the May 2025 talks: the reader gives the "
               "sentence calling those 'the first direct peace talks in over three years' a chance of 0.98 and "
               "'the earliest formal attempts, the Istanbul talks in March 2022' 0.65, no longer within 80% of "
               "it (0.82 against 0.90 before), so the composer does not compare their dates")
