# ward under Nomad: the task runs `ward up`; Nomad's kill_signal reaches ward,
# which stops every service in dependency order. `raw_exec` runs it on the
# host as is; `exec` (commented) isolates it in a chroot with its cgroups.
job "shop" {
  datacenters = ["dc1"]
  type        = "service"

  group "app" {
    count = 1

    network {
      port "http" {
        static = 8080
      }
    }

    restart {
      attempts = 3
      interval = "10m"
      delay    = "15s"
      mode     = "delay"
    }

    task "ward" {
      driver = "raw_exec"
      # driver = "exec"

      config {
        command = "/usr/local/bin/ward"
        args    = ["up", "-f", "/srv/shop/ward.yaml"]
      }

      # ward's longest stop chain is 25s (web after cache-warmer).
      kill_signal  = "SIGTERM"
      kill_timeout = "40s"

      # Script checks need Consul as the service provider (the default);
      # with provider = "nomad", keep the http check only.
      service {
        name     = "shop-web"
        port     = "http"
        provider = "consul"

        # Ready once no instance is still on its way up.
        check {
          name     = "ward-ready"
          type     = "script"
          command  = "/usr/local/bin/ward"
          args     = ["ready", "-f", "/srv/shop/ward.yaml"]
          interval = "10s"
          timeout  = "3s"
        }

        check {
          name     = "web-http"
          type     = "http"
          path     = "/healthz"
          interval = "10s"
          timeout  = "2s"
        }
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
