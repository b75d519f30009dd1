//! Every emulated agent is its own HTTP server, as a real agent is: a
//! listener on the emulator's IP with a port of its own, named by the
//! agent's pid (`slave(1)@ip:port`), its `port` and the `url` in offers.
//! Clients reach `/slave(1)/state`, `/state`, `/files/*`, ... there, the
//! way they reach agents of a real cluster, and the master's own address
//! answers none of them (a real master does not either).
//!
//! Binding happens with the master locked, when an agent appears, so its
//! port is known before anything shows it; the HTTP server behind the
//! listener is started just after (`serve_new`), and connections made in
//! between wait in the listen backlog.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::SharedApp;
use crate::model::Master;

/// What the agents' servers share: how to serve (TLS or not), when to
/// stop, and their tasks.
pub struct AgentServers {
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: watch::Receiver<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl AgentServers {
    pub fn new(tls: Option<Arc<rustls::ServerConfig>>, stop: watch::Receiver<bool>) -> Self {
        AgentServers {
            tls,
            stop,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// Ends every agent server at once (their listeners close).
    pub fn abort_all(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        for t in tasks.drain(..) {
            t.abort();
        }
    }

    /// The servers' tasks, to wait for after the stop signal.
    pub fn take_tasks(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Backlog of an agent's listener (a real agent's libprocess uses 512).
const BACKLOG: i32 = 512;

/// A listening socket on `ip:port`. `SO_REUSEADDR` only when asking for a
/// given port (a restarted emulator's saved one, which may still have
/// connections in TIME_WAIT); never for port 0, where Linux then spends
/// ~0.5 ms per bind once thousands of ports are taken (5 s for 10,000
/// agents, against 0.1 s without).
fn listen_on(ip: Ipv4Addr, port: u16) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    if port != 0 {
        socket.set_reuse_address(true)?;
    }
    socket.bind(&SocketAddr::from((ip, port)).into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Binds `ip:preferred`, else any free port on `ip`.
fn bind(ip: Ipv4Addr, preferred: u16) -> std::io::Result<TcpListener> {
    if preferred != 0 {
        if let Ok(l) = listen_on(ip, preferred) {
            return Ok(l);
        }
    }
    listen_on(ip, 0)
}

impl Master {
    /// Gives every agent without one a listener of its own: the port it
    /// had before (saved state) when that port is free, else a free one.
    /// Fails with a message naming the agent and the likely cause.
    pub fn listen_for_agents(&mut self) -> Result<(), String> {
        let ip = self.ip;
        for a in self.agents.values_mut().filter(|a| !a.listening) {
            let listener = bind(ip, a.port).map_err(|e| {
                let hint = if e.raw_os_error() == Some(24) {
                    " (too many open files: every agent has its own listener, \
                         so raise the limit with `ulimit -n`)"
                } else {
                    ""
                };
                format!("cannot listen on {ip} for agent {}: {e}{hint}", a.id)
            })?;
            a.port = listener.local_addr().map_err(|e| e.to_string())?.port();
            a.listening = true;
            self.unserved_listeners.push((a.id.clone(), listener));
            self.dirty = true;
        }
        Ok(())
    }
}

/// Starts the HTTP servers of the listeners bound since the last call.
/// Must run inside the emulator's Tokio runtime.
pub fn serve_new(app: &SharedApp) {
    let fresh: Vec<(String, TcpListener)> = {
        let mut m = app.lock();
        if m.unserved_listeners.is_empty() {
            return;
        }
        let bound = std::mem::take(&mut m.unserved_listeners);
        bound
            .into_iter()
            .filter(|(id, _)| m.agents.contains_key(id))
            .collect()
    };
    let servers = &app.agent_servers;
    let mut tasks = servers.tasks.lock().unwrap_or_else(|e| e.into_inner());
    tasks.retain(|t| !t.is_finished());
    let routes = crate::server::agent_routes(app.clone());
    for (id, listener) in fresh {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            eprintln!("mesos-sim: cannot serve agent {id}: its listener is unusable");
            continue;
        };
        let router = crate::server::for_agent(&routes, id);
        let mut stop = servers.stop.clone();
        let task = match &servers.tls {
            Some(config) => tokio::spawn(crate::tls::serve(listener, router, config.clone(), stop)),
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
            }),
        };
        tasks.push(task);
    }
}
