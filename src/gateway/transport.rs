//! The gRPC channel to BuildKit: HTTP/2 with prior knowledge over one byte stream.

use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::{Channel, Endpoint, Uri};

/// The largest message the frontend sends or accepts, 16 MiB as in BuildKit's Go client.
/// The server may accept less: Docker 26's BuildKit rejects requests over 4 MiB.
pub const MAX_MESSAGE_SIZE: usize = 16 << 20;

/// Opens the channel over the process's stdin (BuildKit's frames) and stdout (ours).
pub async fn connect_stdio() -> Result<Channel, tonic::transport::Error> {
    connect(tokio::io::join(tokio::io::stdin(), tokio::io::stdout())).await
}

/// Opens the channel over `io`. The stream can be handed out once, so the channel never
/// redials: a second connection attempt fails.
pub async fn connect<T>(io: T) -> Result<Channel, tonic::transport::Error>
where
    T: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let slot = Arc::new(Mutex::new(Some(io)));
    let connector = tower::service_fn(move |_: Uri| {
        let io = slot
            .lock()
            .expect("the stream slot is never poisoned")
            .take();
        async move {
            io.map(TokioIo::new).ok_or_else(|| {
                std::io::Error::other("the gateway connection is closed and cannot be reopened")
            })
        }
    });
    // The authority is not used by BuildKit; the scheme must be plain http.
    Endpoint::from_static("http://localhost")
        .connect_with_connector(connector)
        .await
}
