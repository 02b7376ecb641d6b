package demo

// incidentGenerators fill the history of incidents, inbound alerts, notifications and the job engine.
var incidentGenerators = []generator{}
