"""Behaviours the reader trained on all of SQuAD (issue 28) lost on the seeds, kept as strict
xfails so that each is seen again, and noticed when it comes back. Each says what happens now."""

#: The disagreement detector compares the two articles' best sentences by score (the reader's
#: chance plus the fused score) within 10%; the reader gives "drags into its third year" 0.18 and
#: "four years since" 0.28 (or 0.81 and 0.18, asked another way) although it marks each one's
#: answering words with the same confidence (0.82 and 0.81), so the two versions are no longer
#: close and the answer gives one. The next lever: compare the confidence in the answering words.
DIFFER = ("known regression (issue 28): the seeds' two versions of the war's length are no longer "
          "close by score with the new reader, so no disagreement is shown")

#: "Where were the first talks held?": the reader ranks "these were the first direct peace talks in
#: over three years" (May 2025) far above "the earliest formal attempts, the Istanbul talks in March
#: 2022", too far for the composer's relative floor to compare their dates.
FIRST_TALKS = ("known regression (issue 28): 'the first direct peace talks in over three years' (May 2025) "
               "outranks 'the Istanbul talks in March 2022' too far for the dates to be compared")
