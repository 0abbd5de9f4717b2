module foreman.local/client

go 1.19
