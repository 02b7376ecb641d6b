package demo

// changeGenerators fill the history of change events, GitHub deploy webhooks and DORA metrics.
var changeGenerators = []generator{}
