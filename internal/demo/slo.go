package demo

// sloGenerators fill the history of SLOs, SLI ingest, error budgets and burn-rate alerts.
var sloGenerators = []generator{}
