"""Models of the Q&A app (questions, answers, tags, votes) arrive with the Q&A issue."""
