"""Stage 2, the index: embedding chunks (embedding), building or updating an index (build), the document
library behind uploads (library), the words side (lexical), and the stores that keep it all (store/)."""
