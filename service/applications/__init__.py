"""Applications to challenges: consortia, judging, ranking and awards."""
