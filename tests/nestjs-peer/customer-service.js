// The NestJS Customer service we interoperate with, messaging side only: a NestJS microservice on the RMQ transport
// with an @EventPattern('order_created') handler, as that service declares it. For each event it
// prints one JSON line with the data it received and the statistics update that service computes
// from it (totalOrders += 1, totalSpent += total, lastOrderAt = createdAt).
//
//   RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672 RABBITMQ_QUEUE=order_created node customer-service.js
require('reflect-metadata');
const { Module, Controller } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { Transport, EventPattern, Payload } = require('@nestjs/microservices');

const stats = new Map();

class OrdersEvents {
  handleOrderCreated(data) {
    const previous = stats.get(data.customerId) ?? { totalOrders: 0, totalSpent: 0 };
    const updated = {
      totalOrders: previous.totalOrders + 1,
      totalSpent: previous.totalSpent + data.total,
      lastOrderAt: new Date(data.createdAt).toISOString(),
    };
    stats.set(data.customerId, updated);
    console.log(JSON.stringify({ event: 'order_created', data, stats: updated }));
  }
}
// The decorators that service writes as @Controller() and @EventPattern('order_created'), applied by hand
// because this file is plain JavaScript.
Payload()(OrdersEvents.prototype, 'handleOrderCreated', 0);
EventPattern('order_created')(
  OrdersEvents.prototype,
  'handleOrderCreated',
  Object.getOwnPropertyDescriptor(OrdersEvents.prototype, 'handleOrderCreated'),
);
Controller()(OrdersEvents);

class CustomerModule {}
Module({ controllers: [OrdersEvents] })(CustomerModule);

async function main() {
  const app = await NestFactory.createMicroservice(CustomerModule, {
    transport: Transport.RMQ,
    options: {
      urls: [process.env.RABBITMQ_URL],
      queue: process.env.RABBITMQ_QUEUE ?? 'order_created',
      queueOptions: { durable: true },
    },
    logger: ['error', 'warn'],
  });
  await app.listen();
  console.log(JSON.stringify({ event: 'ready' }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
