//! A small blocking client of the daemon, used by the hook shim, the CLI and the desktop app. It does no policy
//! loading and opens no database: the hook's whole cost is one connect and one round trip.

pub mod home;
pub mod identity;
pub mod preview;
pub mod printable;
pub mod process;
pub mod settings;
pub mod system;

use airlock_protocol::{Envelope, PROTOCOL_VERSION, Request, Response, Surface};
use interprocess::local_socket::{GenericFilePath, Stream, prelude::*};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "the Airlock daemon is not running (no socket at `{socket}`: {source}); start it with `airlock daemon`"
    )]
    Unreachable {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("lost the connection to the Airlock daemon: {0}")]
    Io(#[from] std::io::Error),
    #[error("the Airlock daemon closed the connection without answering")]
    NoAnswer,
    #[error("the Airlock daemon sent an answer this client does not understand: {0}")]
    BadAnswer(String),
    #[error(
        "the Airlock daemon speaks protocol {0}, this client {PROTOCOL_VERSION}; use matching Airlock versions"
    )]
    Version(u32),
    #[error(
        "the process answering on `{socket}` runs as uid {found}, not as Airlock's account `{account}` (uid {expected}): an impostor, or the daemon was started by hand; start it with `sudo systemctl start airlock` (or as its unit does)"
    )]
    NotTheSystemDaemon {
        socket: PathBuf,
        account: String,
        expected: u32,
        found: String,
    },
    #[error(transparent)]
    System(#[from] system::SystemError),
}

pub struct Client {
    reader: BufReader<Stream>,
    next_id: u64,
    surface: Option<Surface>,
}

impl Client {
    /// Connect to the daemon of `home`. In system mode the peer must run as Airlock's account:
    /// no user of the machine can bind the socket's directory, and no other answer is believed.
    pub fn connect_to(home: &home::AirlockHome) -> Result<Self, ClientError> {
        let socket = home.socket();
        let client = Self::connect(&socket)?;
        if let Some(system) = &home.system {
            let account = system.account_user()?;
            let found = client
                .reader
                .get_ref()
                .peer_creds()
                .ok()
                .and_then(|c| c.euid());
            if found != Some(account.uid) {
                return Err(ClientError::NotTheSystemDaemon {
                    socket,
                    account: account.name,
                    expected: account.uid,
                    found: found.map_or("unknown".into(), |u| u.to_string()),
                });
            }
        }
        Ok(client)
    }

    pub fn connect(socket: &Path) -> Result<Self, ClientError> {
        let unreachable = |source| ClientError::Unreachable {
            socket: socket.to_path_buf(),
            source,
        };
        let name = socket
            .to_fs_name::<GenericFilePath>()
            .map_err(unreachable)?;
        let stream = Stream::connect(name).map_err(unreachable)?;
        Ok(Self {
            reader: BufReader::new(stream),
            next_id: 1,
            surface: None,
        })
    }

    /// Say, with every request, which surface a person uses through this client (recorded as
    /// the client's claim beside what the kernel says about it).
    pub fn with_surface(mut self, surface: Surface) -> Self {
        self.surface = Some(surface);
        self
    }

    /// The process at the other end of the connection (`SO_PEERCRED`).
    pub fn peer_pid(&self) -> Option<u32> {
        self.reader
            .get_ref()
            .peer_creds()
            .ok()
            .and_then(|c| c.pid())
            .and_then(|p| u32::try_from(p).ok())
    }

    /// Send one request and wait for its answer (which may take as long as a human does).
    pub fn call(&mut self, request: Request) -> Result<Response, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(id, request)?;
        self.receive()
    }

    pub fn send(&mut self, id: u64, request: Request) -> Result<(), ClientError> {
        let mut line = serde_json::to_vec(&Envelope::new(id, request).from_surface(self.surface))
            .map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        line.push(b'\n');
        let stream = self.reader.get_mut();
        stream.write_all(&line)?;
        stream.flush()?;
        Ok(())
    }

    /// Read the next message (a response, or an event after `subscribe`).
    pub fn receive(&mut self) -> Result<Response, ClientError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(ClientError::NoAnswer);
        }
        let envelope: Envelope<Response> =
            serde_json::from_str(&line).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        if envelope.v != PROTOCOL_VERSION {
            return Err(ClientError::Version(envelope.v));
        }
        Ok(envelope.body)
    }
}
