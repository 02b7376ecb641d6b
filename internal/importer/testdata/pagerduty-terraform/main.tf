# Written from the pagerduty provider's resource documentation
# (website/docs/r/*.html.markdown): one case per documented option.
variable "zone" {
  type    = string
  default = "America/New_York"
}

variable "sre_delay" {
  default = 20 # terraform.tfvars sets 15
}

locals {
  weekly      = 7 * 86400
  domain      = "example.com"
  handoff_day = "2026-02-02T09:00:00-05:00"
  start_day   = local.handoff_day # a local of a local
  shouting    = upper("payments") # a function: not evaluated from the files alone
}

resource "pagerduty_user" "dev1" {
  name        = "Alice Kowalski"
  email       = "alice@${local.domain}"
  role        = "user"
  job_title   = "Developer"
  description = "Checkout"
}

resource "pagerduty_user" "dev2" {
  name      = "Bob Martins"
  email     = "bob@example.com"
  time_zone = "America/New_York"
}

resource "pagerduty_user" "sre1" {
  name  = "Carol Diaz"
  email = "carol@example.com"
  role  = "admin"
  color = "green"
}

resource "pagerduty_team" "engineering" {
  name = "Engineering"
}

resource "pagerduty_team" "payments" {
  name        = "Payments Team"
  description = "Checkout and invoicing"
  parent      = pagerduty_team.engineering.id
}

resource "pagerduty_team_membership" "alice" {
  user_id = pagerduty_user.dev1.id
  team_id = pagerduty_team.payments.id
  role    = "manager"
}

resource "pagerduty_team_membership" "bob" {
  user_id = pagerduty_user.dev2.id
  team_id = pagerduty_team.payments.id
}

resource "pagerduty_schedule" "primary" {
  name        = "Payments Primary"
  time_zone   = var.zone
  description = "Payments on call"
  teams       = [pagerduty_team.payments.id]
  overflow    = true

  # Layer 1: weekly, Monday 09:00 New York.
  layer {
    name                         = "Weekly"
    start                        = local.start_day
    rotation_virtual_start       = local.handoff_day
    rotation_turn_length_seconds = local.weekly
    users                        = [pagerduty_user.dev1.id, pagerduty_user.dev2.id, pagerduty_user.sre1.id]
  }

  # Layer 2 wins where it has someone: business hours on weekdays, a
  # daily rotation that started before the layer did (the layer begins
  # mid-turn).
  layer {
    name                         = "Business hours"
    start                        = "2026-02-25T13:00:00-05:00"
    rotation_virtual_start       = "2026-02-20T08:00:00-05:00"
    rotation_turn_length_seconds = 86400
    users                        = [pagerduty_user.sre1.id, pagerduty_user.dev1.id]

    restriction {
      type              = "weekly_restriction"
      start_time_of_day = "08:00:00"
      start_day_of_week = 1
      duration_seconds  = 36000
    }
    restriction {
      type              = "weekly_restriction"
      start_time_of_day = "08:00:00"
      start_day_of_week = 3
      duration_seconds  = 36000
    }
  }

  # Layer 3: nights, 12-hour turns counted in elapsed hours, ending.
  layer {
    name                         = "Nights"
    start                        = "2026-03-01T20:00:00-05:00"
    end                          = "2026-04-10T20:00:00-04:00"
    rotation_virtual_start       = "2026-03-01T20:00:00-05:00"
    rotation_turn_length_seconds = 43200
    users                        = [pagerduty_user.dev2.id, pagerduty_user.dev1.id]

    restriction {
      type              = "daily_restriction"
      start_time_of_day = "22:00:00"
      duration_seconds  = 28800
    }
  }
}

resource "pagerduty_escalation_policy" "payments" {
  name      = "Payments Escalation"
  num_loops = 2
  teams     = [pagerduty_team.payments.id]

  rule {
    escalation_delay_in_minutes = 10
    target {
      type = "user_reference"
      id   = pagerduty_user.dev1.id
    }
    target {
      id = pagerduty_user.dev2.id
    }
  }
  rule {
    escalation_delay_in_minutes = var.sre_delay
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.primary.id
    }
  }
}

resource "pagerduty_escalation_policy" "legacy" {
  name = "Legacy Types"

  rule {
    escalation_delay_in_minutes = 5
    escalation_rule_assignment_strategy {
      type = "round_robin"
    }
    target {
      type = "user"
      id   = pagerduty_user.sre1.id
    }
    target {
      type = "schedule"
      id   = pagerduty_schedule.primary.id
    }
    target {
      type = "user_reference"
      id   = data.pagerduty_user.external.id
    }
  }
}

resource "pagerduty_service" "checkout" {
  name                    = "Checkout API"
  description             = local.shouting
  auto_resolve_timeout    = 14400
  acknowledgement_timeout = 600
  escalation_policy       = pagerduty_escalation_policy.payments.id
  alert_creation          = "create_alerts_and_incidents"

  incident_urgency_rule {
    type    = "constant"
    urgency = "high"
  }

  alert_grouping_parameters {
    type = "time"
    config {
      timeout = 2
    }
  }
}

# Not read: a resource made several times, a dynamic block, and resource
# types tandem has no equivalent for; each is a warning.
resource "pagerduty_user" "interns" {
  count = 2
  name  = "Intern ${count.index}"
  email = "intern${count.index}@example.com"
}

resource "pagerduty_user" "contractors" {
  for_each = toset(["x", "y"])
  name     = each.key
  email    = "${each.key}@example.com"
}

resource "pagerduty_escalation_policy" "generated" {
  name = "Generated"
  dynamic "rule" {
    for_each = [5, 10]
    content {
      escalation_delay_in_minutes = rule.value
      target {
        id = pagerduty_user.dev1.id
      }
    }
  }
}

resource "pagerduty_service_dependency" "checkout_reports" {
  dependency {
    dependent_service {
      id   = pagerduty_service.checkout.id
      type = "service"
    }
    supporting_service {
      id   = pagerduty_service.reports.id
      type = "service"
    }
  }
}

resource "pagerduty_service" "batch" {
  name                    = "Nightly Batch"
  acknowledgement_timeout = "null"
  escalation_policy       = pagerduty_escalation_policy.legacy.id
}

resource "pagerduty_service" "reports" {
  name              = "Reports"
  escalation_policy = pagerduty_escalation_policy.legacy.id
}
