// Baseline: the smallest Nest app on the same HTTP adapter as the service (Fastify), plain JS
// with the decorators applied as functions. Prints "listening <port>".
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

class PingController {
  ping() {
    return { ok: true };
  }
}
Controller('')(PingController);
Get('ping')(PingController.prototype, 'ping', Object.getOwnPropertyDescriptor(PingController.prototype, 'ping'));

class BareModule {}
Module({ controllers: [PingController] })(BareModule);

const app = await NestFactory.create(BareModule, new FastifyAdapter(), { logger: false });
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
console.log(`listening ${app.getHttpServer().address().port}`);

const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
