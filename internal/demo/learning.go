package demo

// learningGenerators fill the history of postmortems, action items, toil and reliability OKRs.
var learningGenerators = []generator{}
