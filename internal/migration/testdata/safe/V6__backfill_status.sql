UPDATE orders SET status = 'new' WHERE status IS NULL AND id <= 10000;
