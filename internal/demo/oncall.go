package demo

// oncallGenerators fill the history of on-call schedules, overrides and escalation policies.
var oncallGenerators = []generator{}
